using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.Tools;

namespace Anchor.Orleans.Grains.Admission;

/// <summary>
/// Admits one tool call, in this order: emergency switch, the client's rate limit, budgets. Throws an
/// <see cref="Interfaces.Errors.AnchorException"/> with <c>emergency_shutdown</c>, <c>rate_limited</c> (with
/// retry-after) or <c>budget_exceeded</c> (not checked for free tools). Session caps are checked when a session opens.
/// </summary>
public interface IToolAdmission
{
    Task AdmitAsync(ClientPolicy client, ToolFacts tool, CancellationToken cancellationToken = default);
}
