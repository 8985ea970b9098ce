from ministry_statistics.app import StatisticsSettings, build_app
from socialsvc_common.service import serve

settings = StatisticsSettings()
serve(build_app(settings), settings)
