"""One module per resource of /api/v1: its pydantic models (the OpenAPI schemas) and views."""
