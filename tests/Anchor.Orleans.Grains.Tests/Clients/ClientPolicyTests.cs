using Anchor.Orleans.Grains.Clients;

namespace Anchor.Orleans.Grains.Tests.Clients;

public sealed class ClientPolicyTests
{
    private static ClientPolicy With(string[] allow, string[]? deny = null) => new("c", 10, 1, 1, 1, 1, allow, deny ?? [], []);

    [Theory]
    [InlineData(new string[0], "browser_navigate", true)]
    [InlineData(new string[0], "browser_evaluate", false)]
    [InlineData(new string[0], "browser_mouse_click_xy", false)]
    [InlineData(new[] { "*" }, "browser_evaluate", false)]
    [InlineData(new[] { "browser_*" }, "browser_evaluate", false)]
    [InlineData(new[] { "browser_evaluate" }, "browser_evaluate", true)]
    [InlineData(new[] { "browser_evaluate" }, "browser_navigate", true)]
    [InlineData(new[] { "browser_mouse_*" }, "browser_mouse_wheel", true)]
    [InlineData(new[] { "browser_evaluate", "budget_status" }, "browser_navigate", false)]
    [InlineData(new[] { "browser_evaluate", "budget_status" }, "budget_status", true)]
    public void AllowsTool_OptInToolsNeedNaming_AndNamingThemRestrictsNothing(string[] allow, string tool, bool allowed) =>
        Assert.Equal(allowed, With(allow).AllowsTool(tool));

    [Fact]
    public void AllowsTool_DenyWins_OverAnOptIn() =>
        Assert.False(With(["browser_evaluate"], ["browser_evaluate"]).AllowsTool("browser_evaluate"));
}
