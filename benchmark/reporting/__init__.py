"""Reporting: the leaderboard (`leaderboard`), alpha curves (`curve`), the analysis page
(`analysis`), and the generated task page (`docs`). Reads results; writes pages and figures."""
