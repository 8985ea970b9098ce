from intake.app import IntakeSettings, build_app
from socialsvc_common.service import serve

settings = IntakeSettings()
serve(build_app(settings), settings)
