using Djag.Admin.Hosting;

// appsettings.json sits beside the binary, wherever the service is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddDjagAdmin();
await using var app = builder.Build();
app.UseDjagAdmin();
await app.RunAsync();
