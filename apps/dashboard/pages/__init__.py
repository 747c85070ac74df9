"""One module per page: each has `layout(services, ...)` and `register(app, services)`."""
