"""A session's agenda: the cases put on it, reordered, postponed, refused, published.

It moves cases between sessions, so it sits above both ``meetings`` (the sessions) and
``cases``; the session pages live here too (``views.py``, the ``meetings`` blueprint), since
they show the agenda.
"""
