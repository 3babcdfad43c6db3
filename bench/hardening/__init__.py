"""Hardening figures (issue 10): each module runs as `python -m bench.hardening.NAME [--quick]`,
prints its figures and exits non-zero when a target is missed."""
