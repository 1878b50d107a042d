namespace Anchor.Orleans.Grains.Interfaces.Sessions;

/// <summary>
/// The response timeout (<see cref="ResponseTimeoutAttribute"/>) of the grain calls that run a browser action or wait
/// behind one: the largest <c>Sessions:ActionTimeoutSeconds</c> the options allow (3 600 s) plus 30 s. An attribute
/// takes a compile-time value, so it is the largest; the action's own deadline ends the call sooner. Every other grain
/// call keeps Orleans' default response timeout (30 s).
/// </summary>
public static class ActionCallTimeout
{
    /// <summary>01:00:30, in <see cref="TimeSpan.Parse(string)"/> syntax.</summary>
    public const string Value = "01:00:30";
}
