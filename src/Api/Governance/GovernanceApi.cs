using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.EmergencyStop;
using Anchor.Orleans.Api.Health;
using Anchor.Orleans.Api.Problems;
using Anchor.Orleans.Api.RequestLimits;
using Anchor.Orleans.Grains.Governance;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Anchor.Orleans.Api.Governance;

/// <summary>Backup and restore of the governance state (ledgers, the switch), and the governance features' wiring.</summary>
public static class GovernanceApi
{
    /// <summary>The emergency switch's readiness check.</summary>
    public static IServiceCollection AddAnchorGovernanceApi(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<EmergencyStopHealthCheck>("emergency", tags: [HealthTags.Ready]);
        return services;
    }

    /// <summary><c>GET /api/governance/export</c> and <c>POST /api/governance/import</c> (operators).</summary>
    public static IEndpointRouteBuilder MapGovernanceApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/governance").RequireAuthorization(AuthPolicies.Operator);
        group.MapGet("/export", async Task<Ok<GovernanceExport>> (GovernanceBackup backup, CancellationToken cancellationToken) =>
            TypedResults.Ok(await backup.ExportAsync(cancellationToken)));
        group.MapPost("/import", ImportAsync).WithMetadata(RequestBodyLimit.Import).ProducesProblem(StatusCodes.Status400BadRequest);
        return endpoints;
    }

    private static async Task<Results<NoContent, ProblemResult>> ImportAsync(GovernanceExport? backup, GovernanceBackup service, CancellationToken cancellationToken)
    {
        if (backup?.Ledgers is null || backup.EmergencyStop is null)
        {
            return ProblemResponses.Result(ErrorCodes.InvalidArgument, StatusCodes.Status400BadRequest, "Body must be a governance export (GET /api/governance/export).");
        }

        try
        {
            await service.ImportAsync(backup, cancellationToken);
        }
        catch (AnchorException ex) when (ex.Code == ErrorCodes.InvalidArgument)
        {
            return ProblemResponses.Result(ex.Code, StatusCodes.Status400BadRequest, ex.Message);
        }

        return TypedResults.NoContent();
    }
}
