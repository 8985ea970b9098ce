"""The data subject's report and erasure, as the operators' tool asks the services for them."""
