from assignment.app import build_app
from socialsvc_common.service import run

run(build_app())
