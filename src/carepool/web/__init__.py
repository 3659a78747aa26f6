"""The web shell: the app, and what every capability's GOV.UK pages and JSON API share.

Thin by design: routes check who is asking (:mod:`carepool.web.auth`), call a service inside
one unit of work per request, and render. No business rule lives here.
"""
