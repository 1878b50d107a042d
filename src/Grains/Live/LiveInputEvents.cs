using Anchor.Orleans.Grains.Interfaces.Live;
using Microsoft.Playwright;

namespace Anchor.Orleans.Grains.Live;

/// <summary>
/// Replays a person's input on a tab through Playwright's mouse and keyboard (on Chromium, CDP
/// <c>Input.dispatchMouseEvent</c>/<c>dispatchKeyEvent</c> on Playwright's own session, so the viewport emulation
/// applies: a raw session of ours would place clicks in the window's space, off by the browser's frame).
/// Positions arrive as fractions of the frame the person sees and are scaled to the viewport's CSS pixels.
/// </summary>
public static class LiveInputEvents
{
    /// <summary>The viewport point (CSS pixels) at fractions <paramref name="x"/>, <paramref name="y"/> of a <paramref name="width"/>×<paramref name="height"/> viewport.</summary>
    public static (float X, float Y) Scale(double x, double y, double width, double height) =>
        ((float)Math.Round(Math.Clamp(x, 0, 1) * width, 1), (float)Math.Round(Math.Clamp(y, 0, 1) * height, 1));

    /// <summary>Playwright's name for a DOM <c>KeyboardEvent.key</c>, or null for one it does not accept.</summary>
    public static string? KeyName(string? key) => key switch
    {
        null or "" or { Length: > 32 } => null,
        " " => "Space",
        "Unidentified" or "Dead" or "Process" => null,
        _ => key,
    };

    public static MouseButton Button(string? button) => button switch
    {
        "right" => MouseButton.Right,
        "middle" => MouseButton.Middle,
        _ => MouseButton.Left,
    };

    /// <summary>Applies <paramref name="input"/> to <paramref name="page"/>; false for an event it does not know.</summary>
    public static async Task<bool> ApplyAsync(IPage page, LiveInput input, double width, double height)
    {
        var (x, y) = Scale(input.X, input.Y, width, height);
        switch (input.Kind, input.Type)
        {
            case ("mouse", "mouseMoved"):
                await page.Mouse.MoveAsync(x, y);
                return true;
            case ("mouse", "mousePressed"):
                await page.Mouse.MoveAsync(x, y);
                await page.Mouse.DownAsync(new() { Button = Button(input.Button), ClickCount = Math.Clamp(input.ClickCount, 1, 3) });
                return true;
            case ("mouse", "mouseReleased"):
                await page.Mouse.MoveAsync(x, y);
                await page.Mouse.UpAsync(new() { Button = Button(input.Button), ClickCount = Math.Clamp(input.ClickCount, 1, 3) });
                return true;
            case ("wheel", _):
                await page.Mouse.MoveAsync(x, y);
                await page.Mouse.WheelAsync((float)Math.Clamp(input.DeltaX, -10_000, 10_000), (float)Math.Clamp(input.DeltaY, -10_000, 10_000));
                return true;
            case ("key", "keyDown") when KeyName(input.Key) is { } key:
                await page.Keyboard.DownAsync(key);
                return true;
            case ("key", "keyUp") when KeyName(input.Key) is { } key:
                await page.Keyboard.UpAsync(key);
                return true;
            default:
                return false;
        }
    }
}
