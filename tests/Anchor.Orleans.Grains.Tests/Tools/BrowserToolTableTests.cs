using System.Reflection;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Tools;

namespace Anchor.Orleans.Grains.Tests.Tools;

/// <summary>The browser tool declarations: one handler per action, and the read-only annotation read from the same fact as checkpoints.</summary>
public sealed class BrowserToolTableTests
{
    private static readonly BrowserToolAttribute[] Tools = [.. BrowserToolTable.Families
        .SelectMany(f => f.GetMethods(BindingFlags.Public | BindingFlags.Instance))
        .Select(m => m.GetCustomAttribute<BrowserToolAttribute>())
        .OfType<BrowserToolAttribute>()];

    [Fact]
    public void Table_DeclaresEveryBrowserToolOnce_WithAHandlerForItsAction()
    {
        Assert.Equal(33, Tools.Length);
        Assert.Equal(Tools.Length, Tools.Select(t => t.Name).Distinct(StringComparer.Ordinal).Count());
        var actions = typeof(BrowserAction).Assembly.GetTypes().Where(t => t is { IsAbstract: false } && t.IsSubclassOf(typeof(BrowserAction)));
        Assert.All(actions, a => Assert.Contains(Tools, t => t.Action == a));
    }

    [Theory]
    [InlineData("browser_snapshot", true)]
    [InlineData("browser_take_screenshot", true)]
    [InlineData("browser_wait_for", true)]
    [InlineData("browser_console_messages", true)]
    [InlineData("browser_network_requests", true)]
    [InlineData("browser_network_request", true)]
    [InlineData("browser_find", true)]
    [InlineData("browser_pdf_save", true)]
    [InlineData("browser_download", true)]
    [InlineData("browser_extract", null)] // Navigates when given a url: not read-only.
    [InlineData("browser_navigate", null)]
    [InlineData("browser_evaluate", null)]
    [InlineData("browser_mouse_wheel", null)]
    public void ReadOnly_IsTheOppositeOfChangesPage(string tool, bool? readOnly)
    {
        var declared = Assert.Single(Tools, t => t.Name == tool);
        Assert.Equal(readOnly, declared.ReadOnly);
        Assert.Equal(readOnly is null, declared.Facts.ChangesPage);
    }

    [Fact]
    public void ChangesPage_ReadsTheHandlerOfTheAction()
    {
        Assert.False(BrowserToolTable.ChangesPage(new SnapshotAction()));
        Assert.True(BrowserToolTable.ChangesPage(new ExtractAction(null, "li", new Dictionary<string, string> { ["t"] = "a" })));
        Assert.True(BrowserToolTable.ChangesPage(new RunTaskAction("https://example.com/", [])));
    }
}
