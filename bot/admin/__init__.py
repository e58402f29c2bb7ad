"""The staff console (`make admin`): a small Flask application, in French, for admissions staff.

app.py builds the application (login, sessions, CSRF, security headers, roles) and registers the
feature blueprints; console_store.py holds its tables; every French sentence comes from the `console:`
section of knowledge/staff_messages.yml.
"""
