"""The words a decision is explained in: rule names, reason keys and missing-fact names.

They travel in DecisionMade (`rules[].rule`, `rules[].reason`, `missing`); eligibility writes them
and notifications turns them into sentences in the citizen's language, so they belong to the
contract. Rename one only together with its templates (a test checks every key has a sentence).
"""

from enum import StrEnum


class RuleName(StrEnum):
    TARGET_GROUP = "target_group"
    INCOME_NEED_CRITERION = "income_need_criterion"
    DEPENDENCY = "dependency"
    PROVISION_HOME_CARE = "provision_home_care"
    PROVISION_RESIDENTIAL = "provision_residential"
    PROVISION_NGO_PROJECT = "provision_ngo_project"
    REQUESTED_SERVICE = "requested_service"
    FACTS_STATED = "facts_stated"


class Reason(StrEnum):
    """Why a rule failed. A failed rule does not by itself make the person ineligible: the
    income rule fails for anyone above the need criterion, who may still qualify as elderly."""

    NO_TARGET_GROUP = "no_target_group"
    INCOME_ABOVE_NEED_CRITERION = "income_above_need_criterion"
    INCOME_NOT_STATED = "income_not_stated"
    NO_DEPENDENCY = "no_dependency"
    GROUP_NOT_SERVED = "group_not_served"
    NOT_LIVING_ALONE = "not_living_alone"
    NEED_LEVEL_BELOW_THRESHOLD = "need_level_below_threshold"
    NO_NEED_FOR_REQUESTED_SERVICE = "no_need_for_requested_service"
    NO_NEED_FOR_ANY_SERVICE = "no_need_for_any_service"
    INFORMATION_MISSING = "information_missing"


class MissingFact(StrEnum):
    """Facts a decision waited for, named as the Circumstances fields that carry them."""

    MONTHLY_HOUSEHOLD_INCOME_AZN = "monthly_household_income_azn"
    ACTIVITIES_NEEDING_HELP = "activities_needing_help"
    DISABILITY_GROUP = "disability_group"
