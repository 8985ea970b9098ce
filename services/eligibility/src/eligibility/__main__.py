from eligibility.app import EligibilitySettings, build_app
from socialsvc_common.service import serve

settings = EligibilitySettings()
serve(build_app(settings), settings)
