from notifications.app import NotificationsSettings, build_app
from socialsvc_common.service import serve

settings = NotificationsSettings()
serve(build_app(settings), settings)
