using Djag.Beat.Hosting;

// appsettings.json sits beside the binary, wherever the service is started from.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddDjagBeat();
using var host = builder.Build();
return await host.RunDjagBeatAsync(args);
