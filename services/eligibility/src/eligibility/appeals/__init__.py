"""Appeals against decisions: the policy, the rules, the table, the steps and the HTTP routes."""
