# Staff roles, assignments and appeals arrive with the staff-review issue.
