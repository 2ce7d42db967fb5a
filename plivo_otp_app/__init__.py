"""Phone verification and SMS two-factor login on Reflex and Plivo Verify."""
