using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Grains.Hosting;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

// Not Anchor.Orleans.Api.Console: a namespace named Console would hide System.Console from every Anchor.Orleans.Api.* file.
namespace Anchor.Orleans.Api.OperatorConsole;

/// <summary>
/// The operator console at <c>/console</c>: server-rendered HTML pages (overview, sessions, a session's timeline,
/// clients, alerts, emergency switch) behind a console sign-in of its own, with antiforgery tokens on every form.
/// Pages are written in C# through <see cref="Html"/> (encoded by default) rather than Razor: the console is a handful
/// of read-mostly pages, and the Api library keeps its plain SDK and build.
/// </summary>
public static class ConsoleApi
{
    public static IServiceCollection AddAnchorConsole(this IServiceCollection services)
    {
        services.AddAnchorOptions<ConsoleOptions>(ConsoleOptions.SectionName);
        services.AddSingleton<IValidateOptions<ConsoleOptions>, ConsoleOptionsValidator>();
        services.AddSingleton<ConsoleSessions>();
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, ConsoleAuthenticationHandler>(ConsoleAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ConsoleAuthenticationHandler.PolicyName, p => p
                .AddAuthenticationSchemes(ConsoleAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser()
                .RequireRole(nameof(ApiRole.Operator)));
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "anchor_console_af";
            o.Cookie.Path = ConsolePaths.Root;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.FormFieldName = "__anchor_af";
        });
        return services;
    }

    public static IEndpointRouteBuilder MapAnchorConsole(this IEndpointRouteBuilder endpoints)
    {
        var open = endpoints.MapGroup(ConsolePaths.Root).ExcludeFromDescription().AllowAnonymous();
        open.MapGet("/console.css", () => Asset(ConsoleAssets.Css, "text/css; charset=utf-8"));
        open.MapGet("/console.js", () => Asset(ConsoleAssets.Script, "text/javascript; charset=utf-8"));
        open.MapGet("/sign-in", SignInPage.Page);
        open.MapPost("/sign-in", SignInPage.SignInAsync).AddEndpointFilter(RequireAntiforgery);

        var console = endpoints.MapGroup(ConsolePaths.Root).ExcludeFromDescription().RequireAuthorization(ConsoleAuthenticationHandler.PolicyName);
        console.MapGet("/", OverviewPage.PageAsync);
        console.MapGet("/fragments/overview", OverviewPage.FragmentAsync);
        console.MapGet("/sessions", SessionsPage.PageAsync);
        console.MapGet("/fragments/sessions", SessionsPage.FragmentAsync);
        console.MapGet("/sessions/{sessionId}", SessionPage.PageAsync);
        console.MapGet("/sessions/{sessionId}/timeline.json", SessionPage.ExportAsync);
        console.MapGet("/sessions/{sessionId}/trace.zip", SessionPage.TraceAsync);
        console.MapGet("/clients", ClientsPage.PageAsync);
        console.MapGet("/alerts", AlertsPage.PageAsync);
        console.MapGet("/emergency", EmergencyPage.PageAsync);

        var forms = console.MapGroup("/").AddEndpointFilter(RequireAntiforgery);
        forms.MapPost("/sessions/{sessionId}/live", SessionPage.LiveAsync);
        forms.MapPost("/sessions/{sessionId}/close", SessionPage.CloseAsync);
        forms.MapPost("/emergency/trip", EmergencyPage.TripAsync);
        forms.MapPost("/emergency/reset", EmergencyPage.ResetAsync);
        forms.MapPost("/sign-out", SignInPage.SignOutAsync);
        return endpoints;
    }

    /// <summary>
    /// A state-changing form without a valid antiforgery token (or not a form, or a form that does not parse, such as a
    /// cut multipart body) is refused with 400 before its handler runs.
    /// </summary>
    private static async ValueTask<object?> RequireAntiforgery(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        return http.Request.HasFormContentType && await IsValidFormAsync(http)
            ? await next(context)
            : TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, type: Grains.Interfaces.Errors.ErrorCodes.InvalidArgument, detail: "The form's antiforgery token is missing or not valid: reload the page and try again.");
    }

    private static async Task<bool> IsValidFormAsync(HttpContext http)
    {
        try
        {
            // Reads the form (cached for the handler) to find the token.
            return await http.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(http);
        }
        catch (Exception ex) when (ex is AntiforgeryValidationException or InvalidDataException)
        {
            return false; // A body that does not parse as the form it claims to be (a cut multipart): not one the console sent.
        }
    }

    private static IResult Asset(string text, string contentType) => TypedResults.Text(text, contentType);
}
