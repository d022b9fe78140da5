"""The pages of the access rules: exceptional access (« bris de glace ») and its review, and the
data-protection officer's pages (audit log with identities, who opened a patient's record).

They sit above every feature package (they show patients, users and the audit log), while the
rules themselves (``rcp_app/access``) sit below them all: tests/test_architecture.py.
"""
