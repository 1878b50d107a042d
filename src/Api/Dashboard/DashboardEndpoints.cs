using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.Problems;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans.Dashboard;

namespace Anchor.Orleans.Api.Dashboard;

/// <summary>The Orleans dashboard at <c>/dashboard</c> for operators.</summary>
public static class DashboardEndpoints
{
    public const string Prefix = "/dashboard";

    /// <summary>
    /// The dashboard's per-silo routes end in a silo address; the dashboard activates a grain for whatever it is given
    /// and fails (500) on anything that does not parse, so those are answered 404 here first.
    /// </summary>
    private static readonly string[] SiloRoutes = ["/HistoricalStats/", "/SiloProperties/", "/SiloMetadata/", "/SiloStats/", "/SiloCounters/"];

    public static IEndpointRouteBuilder MapAnchorDashboard(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOrleansDashboard(routePrefix: Prefix).RequireAuthorization(AuthPolicies.Operator);
        return endpoints;
    }

    /// <summary>After authorization, so callers without the operator role learn nothing about silo addresses.</summary>
    public static IApplicationBuilder UseDashboardSiloAddressCheck(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.Request.Path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase, out var rest)
            && SiloRoutes.FirstOrDefault(r => rest.Value!.StartsWith(r, StringComparison.OrdinalIgnoreCase)) is { } route
            && !IsSiloAddress(Uri.UnescapeDataString(rest.Value![route.Length..])))
        {
            await ProblemResponses.WriteAsync(context, ErrorCodes.NotFound, StatusCodes.Status404NotFound, "No silo has that address.");
            return;
        }

        await next(context);
    });

    private static bool IsSiloAddress(string text)
    {
        try
        {
            SiloAddress.FromParsableString(text);
            return true;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or IndexOutOfRangeException or OverflowException)
        {
            return false;
        }
    }
}
