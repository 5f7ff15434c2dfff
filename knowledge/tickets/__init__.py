"""The help desk: tickets with tracking codes, the agent desk, SLA clocks, satisfaction and deflection."""
