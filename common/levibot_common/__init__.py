"""levibot_common."""
