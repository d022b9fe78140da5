"""The JSON API for hospital systems (/api/v1): OAuth 2.0 clients, resources, webhooks."""
