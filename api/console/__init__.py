"""The console (工作台): the center's own pages in Chinese, served by the API on its origin behind
the same sign-in as the Temporal UI (api/ui.py). `routes.router` holds every page; `web` what they share."""
