using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.Tools;

namespace Anchor.Orleans.Grains.Tests.Tools;

public sealed class ToolCatalogueTests
{
    private static readonly ToolCatalogue Catalogue = new(
    [
        new ToolFacts("browser_navigate", Search: true),
        new ToolFacts("browser_evaluate", OptIn: true),
        new ToolFacts("browser_emulate_media"),
        new ToolFacts("browser_mouse_click_xy", OptIn: true),
        new ToolFacts("browser_mouse_wheel", OptIn: true),
        new ToolFacts("budget_status", Free: true),
    ]);

    private static ClientPolicy With(string[] allow, string[]? deny = null) => new("c", 10, 1, 1, 1, 1, allow, deny ?? [], []);

    [Theory]
    [InlineData(new string[0], "browser_navigate", true)]
    [InlineData(new string[0], "browser_evaluate", false)]
    [InlineData(new string[0], "browser_mouse_click_xy", false)]
    [InlineData(new[] { "*" }, "browser_evaluate", false)]
    [InlineData(new[] { "browser_*" }, "browser_evaluate", false)]
    [InlineData(new[] { "browser_e*" }, "browser_evaluate", false)] // also matches browser_emulate_media: not an opt-in name
    [InlineData(new[] { "browser_evaluate" }, "browser_evaluate", true)]
    [InlineData(new[] { "browser_evaluate" }, "browser_navigate", true)]
    [InlineData(new[] { "browser_mouse_*" }, "browser_mouse_wheel", true)]
    [InlineData(new[] { "browser_mouse_*" }, "browser_evaluate", false)]
    [InlineData(new[] { "browser_evaluate", "budget_status" }, "browser_navigate", false)]
    [InlineData(new[] { "browser_evaluate", "budget_status" }, "budget_status", true)]
    public void Allows_OptInToolsNeedNaming_AndNamingThemRestrictsNothing(string[] allow, string tool, bool allowed) =>
        Assert.Equal(allowed, Catalogue.Allows(With(allow), Catalogue.Find(tool)!));

    [Fact]
    public void Allows_DenyWins_OverAnOptIn() =>
        Assert.False(Catalogue.Allows(With(["browser_evaluate"], ["browser_evaluate"]), Catalogue.Find("browser_evaluate")!));

    [Fact]
    public void Find_KnowsOnlyCataloguedNames()
    {
        Assert.Equal(new ToolFacts("budget_status", Free: true), Catalogue.Find("budget_status"));
        Assert.Null(Catalogue.Find("browser_run_code_unsafe"));
        Assert.Null(Catalogue.Find(null));
    }
}
