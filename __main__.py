"""The ml-proto stack: read the typed settings, build MlPrototype, export what the user needs."""

import pulumi

from components.prototype import MlPrototype, MlPrototypeArgs
from components.settings import Settings

settings = Settings.from_config()  # refuses a bad value before any resource exists
app = MlPrototype("ml-proto", MlPrototypeArgs(settings, project=pulumi.get_project(), stack=pulumi.get_stack()))

first_user = settings.dashboard.users[0]
pulumi.export("url", app.dashboard.url)
pulumi.export("albDnsName", app.dashboard.load_balancer.dns_name)
pulumi.export("table", app.store.table.name)
pulumi.export("bucket", app.store.bucket.bucket)
pulumi.export("predictorFunction", app.predictor.function.name)
pulumi.export("predictorInvokeTarget", app.predictor.invoke_target)
pulumi.export("cluster", app.cluster.name)
pulumi.export("workerTaskDefinition", app.worker.task_definition.family)
pulumi.export("dashboardLogGroup", app.dashboard.log_group.name)
pulumi.export("predictorLogGroup", app.predictor.log_group.name)
pulumi.export("workerLogGroup", app.worker.log_group.name)
pulumi.export("images", {name: image.image_uri for name, image in app.images.items()})
pulumi.export("dashboardUser", first_user)
pulumi.export("dashboardPassword", pulumi.Output.secret(app.dashboard.passwords[first_user]))
pulumi.export("dashboardLogins", app.dashboard.logins)
