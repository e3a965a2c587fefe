"""WSGI entry point for production servers: ``gunicorn -w 3 'wsgi:app'``.

The reminder scheduler does not run in these worker processes; run it once, beside them,
as ``flask --app casetrack scheduler run`` (see README.md and scripts/ops/).
"""

from casetrack import create_app

app = create_app()
