using Anchor.Orleans.Grains.Hosting;
using Anchor.Orleans.Grains.Tools;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Clients;

public static class ClientPolicyRegistration
{
    /// <summary>Binds each <c>Anchor:Clients:&lt;id&gt;</c> as the named <see cref="ClientPolicyOptions"/> of that client.</summary>
    public static IServiceCollection AddClientPolicies(this IServiceCollection services)
    {
        services.AddSingleton<IConfigureOptions<ClientPolicyOptions>>(sp => new ConfigureNamedClient(sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton<IOptionsChangeTokenSource<ClientPolicyOptions>>(sp =>
            new ConfigurationChangeTokenSource<ClientPolicyOptions>(sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton<ClientPolicies>();
        // Filled from the ToolFacts the MCP front registers (none in a silo without it).
        services.TryAddSingleton<ToolCatalogue>();
        return services;
    }

    private sealed class ConfigureNamedClient(IConfiguration configuration) : IConfigureNamedOptions<ClientPolicyOptions>
    {
        public void Configure(ClientPolicyOptions options) => Configure(Options.DefaultName, options);

        public void Configure(string? name, ClientPolicyOptions options)
        {
            if (!string.IsNullOrEmpty(name))
            {
                configuration.GetSection($"{OptionsRegistration.Root}:{ClientPolicyOptions.SectionName}:{name}").Bind(options);
            }
        }
    }
}
