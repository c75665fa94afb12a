var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddSystemd();
await builder.Build().RunAsync();
