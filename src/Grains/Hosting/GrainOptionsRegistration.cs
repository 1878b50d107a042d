using Anchor.Orleans.Grains.Alerts;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Mcp;
using Anchor.Orleans.Grains.RateLimiting;
using Anchor.Orleans.Grains.Sessions;
using Anchor.Orleans.Grains.Timeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Grains.Hosting;

public static class GrainOptionsRegistration
{
    /// <summary>Binds and validates every options section the grains read.</summary>
    public static IServiceCollection AddAnchorGrainOptions(this IServiceCollection services)
    {
        services.AddAnchorOptions<SessionsOptions>(SessionsOptions.SectionName);
        services.AddSingleton<IValidateOptions<SessionsOptions>, SessionsOptionsValidator>();
        services.AddAnchorOptions<RateLimitOptions>(RateLimitOptions.SectionName);
        services.AddAnchorOptions<BudgetOptions>(BudgetOptions.SectionName);
        services.AddSingleton<IValidateOptions<BudgetOptions>, BudgetOptionsValidator>();
        services.AddAnchorOptions<PricingOptions>(PricingOptions.SectionName);
        services.AddAnchorOptions<BrowserOptions>(BrowserOptions.SectionName);
        services.AddSingleton<IValidateOptions<BrowserOptions>, BrowserOptionsValidator>();
        services.AddAnchorOptions<AlertsOptions>(AlertsOptions.SectionName);
        services.AddSingleton<IValidateOptions<AlertsOptions>, AlertsOptionsValidator>();
        services.AddAnchorOptions<McpOptions>(McpOptions.SectionName);
        services.AddAnchorOptions<TimelineOptions>(TimelineOptions.SectionName);
        return services;
    }
}
