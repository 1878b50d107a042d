using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Sessions;
using Orleans.Serialization.Invocation;

namespace Anchor.Orleans.Grains.Tests.Sessions;

/// <summary>Only the calls that run a browser action (or wait behind one) outlast Orleans' default response timeout.</summary>
public sealed class ActionCallTimeoutTests
{
    private static readonly string[] ActionCalls =
    [
        nameof(IBrowserSessionGrain.ExecuteAsync), nameof(IBrowserSessionGrain.OpenAsync), nameof(IBrowserSessionGrain.SaveProfileAsync), nameof(IBrowserSessionGrain.SuspendAsync),
    ];

    [Fact]
    public void Value_IsTheLargestAllowedActionTimeout_Plus30Seconds()
    {
        var range = typeof(SessionsOptions).GetProperty(nameof(SessionsOptions.ActionTimeoutSeconds))!.GetCustomAttribute<RangeAttribute>()!;

        Assert.Equal(TimeSpan.FromSeconds((int)range.Maximum + 30), TimeSpan.Parse(ActionCallTimeout.Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void GeneratedCalls_OfTheSessionGrain_CarryTheLongTimeout_OnlyWhereAnActionRuns()
    {
        var timeouts = typeof(IBrowserSessionGrain).Assembly.GetTypes()
            .Where(t => typeof(IInvokable).IsAssignableFrom(t) && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) is not null)
            .Select(t => (IInvokable)Activator.CreateInstance(t)!)
            .Where(i => i.GetInterfaceType() == typeof(IBrowserSessionGrain))
            .ToDictionary(i => i.GetMethodName(), i => i.GetDefaultResponseTimeout());

        Assert.Equal(typeof(IBrowserSessionGrain).GetMethods().Select(m => m.Name).Order(), timeouts.Keys.Order());
        Assert.All(timeouts, t => Assert.Equal(ActionCalls.Contains(t.Key) ? TimeSpan.FromSeconds(3_630) : null, t.Value));
    }
}
