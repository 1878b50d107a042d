using Anchor.Orleans.Grains.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Api.Auth;

public static class AuthExtensions
{
    public static IServiceCollection AddAnchorAuth(this IServiceCollection services)
    {
        services.AddAnchorOptions<AuthOptions>(AuthOptions.SectionName);
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        services.AddSingleton<ApiKeyStore>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(AuthPolicies.Agent, p => p.RequireAuthenticatedUser().RequireRole(nameof(ApiRole.Agent), nameof(ApiRole.Operator)))
            .AddPolicy(AuthPolicies.Operator, p => p.RequireAuthenticatedUser().RequireRole(nameof(ApiRole.Operator)));
        return services;
    }
}
