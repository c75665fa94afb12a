using Djag.Worker;

// appsettings.json sits beside the binary, wherever the service is started from.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddDjagWorker();
using var host = builder.Build();
return await host.RunDjagWorkerAsync();
