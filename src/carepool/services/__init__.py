"""Services: the application's use cases, each run inside one unit of work.

Services take a session and the acting :class:`~carepool.domain.roles.Principal`, check the
actor's role, call the pure domain core, write through the store and record an audit event.
They never commit; the CLI command or web request that called them does.
"""
