using Anchor.Orleans.Api;
using Anchor.Orleans.Grains.Hosting;

namespace Anchor.Orleans.Silo;

/// <summary>One silo: Orleans grains and the HTTP front in one ASP.NET Core host. Tests build it the same way.</summary>
public static class SiloApplication
{
    /// <summary>Where the service listens when nothing else is configured: this machine only.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            // appsettings*.json sit beside the binary, wherever the process is started from.
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = EnvironmentNameOrDevelopment(args),
        });

        if (!HasConfiguredUrls(builder.Configuration))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.AddAnchorOrleans();
        builder.AddAnchorApi();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapAnchorApi();
        return app;
    }

    // The embedded default is a developer's laptop: Development unless the environment is named.
    private static string EnvironmentNameOrDevelopment(string[] args)
    {
        var fromArgs = new ConfigurationBuilder().AddCommandLine(args).Build()["environment"];
        return fromArgs
            ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT")
            ?? Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT")
            ?? Environments.Development;
    }

    private static bool HasConfiguredUrls(IConfiguration configuration) =>
        !string.IsNullOrEmpty(configuration["urls"])
        || !string.IsNullOrEmpty(configuration["http_ports"])
        || !string.IsNullOrEmpty(configuration["https_ports"])
        || configuration.GetSection("Kestrel:Endpoints").GetChildren().Any();
}
