"""Admin route modules; each has `register_routes(bp)`."""
