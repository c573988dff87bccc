"""levibot_operator."""
