"""Benchmarks of mission-ledger at national scale (run: python -m bench [--events N] [--quick])."""
