"""The web shell: GOV.UK-styled pages by audience and a versioned JSON API.

Thin by design: routes check who is asking (:mod:`carepool.web.auth`), call a service inside
one unit of work per request, and render. No business rule lives here.
"""
