"""Activity and quality indicators: the « Statistiques » page, its exports, the annual report
and the ``flask rcp indicators`` command. Every figure is an SQL aggregate (indicators.py) over
the sessions of a period, within the RCPs the user may see (scope.py)."""
