from assignment.app import AssignmentSettings, build_app
from socialsvc_common.service import serve

settings = AssignmentSettings()
serve(build_app(settings), settings)
