using System.Globalization;
using System.Text;

namespace Actors.Hvctl;

/// <summary>
/// Progress of one long operation on one line. On a terminal: a bar and the latest figures, redrawn in place with
/// '\r' (at most ten times a second, cut to the terminal's width so it never wraps). Elsewhere, where '\r' would
/// only litter a log: a plain line at each milestone, and otherwise at most every <see cref="PlainLineInterval"/>
/// (the first one after that long), so that a short operation prints only its end.
/// </summary>
internal sealed class ProgressLine(TextWriter output, bool terminal, int columns, TimeProvider? time = null)
{
    public static readonly TimeSpan PlainLineInterval = TimeSpan.FromSeconds(2);

    private const int BarWidth = 20;

    // Erases what a longer earlier line left to the right of the cursor.
    private const string EraseToEndOfLine = "\e[K";

    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private string? _drawn;
    private string? _pending;

    // From the start, so that an operation over within the interval prints no progress line at all, only its end.
    private DateTimeOffset _drawnAt = (time ?? TimeProvider.System).GetUtcNow();

    /// <summary>
    /// Reports progress: <paramref name="text"/> says where the operation stands; <paramref name="fraction"/> (0 to 1)
    /// fills the bar, if there is one to fill; a <paramref name="milestone"/> (a new pass, say) is always shown.
    /// </summary>
    public void Report(string text, double? fraction = null, bool milestone = false)
    {
        string line = terminal && fraction is { } done ? Bar(done) + " " + text : text;
        if (line == _drawn)
            return;
        DateTimeOffset now = _time.GetUtcNow();
        bool due = milestone || (terminal ? _drawn is null || now - _drawnAt >= RedrawInterval : now - _drawnAt >= PlainLineInterval);
        if (!due)
        {
            _pending = line;
            return;
        }

        Draw(line, now);
    }

    /// <summary>Ends the line: a terminal's bar shows its last figures (or <paramref name="final"/>) and the cursor moves below it; elsewhere <paramref name="final"/> is printed.</summary>
    public void End(string? final = null)
    {
        string? last = final ?? _pending;
        if (last is not null && last != _drawn)
            Draw(last, _time.GetUtcNow());
        if (terminal && _drawn is not null)
            output.WriteLine();
        _drawn = _pending = null;
    }

    private void Draw(string line, DateTimeOffset now)
    {
        if (terminal)
            output.Write("\r" + Fit(line) + EraseToEndOfLine);
        else
            output.WriteLine(line);
        output.Flush();
        _drawn = line;
        _pending = null;
        _drawnAt = now;
    }

    private string Fit(string line) => columns > 1 && line.Length >= columns ? line[..(columns - 1)] : line;

    internal static string Bar(double fraction)
    {
        double clamped = double.IsFinite(fraction) ? Math.Clamp(fraction, 0, 1) : 0;
        int filled = (int)Math.Round(clamped * BarWidth);
        return new StringBuilder(BarWidth + 8)
            .Append('[').Append('#', filled).Append('.', BarWidth - filled).Append(']')
            .Append(string.Create(CultureInfo.InvariantCulture, $" {clamped * 100,3:0}%"))
            .ToString();
    }
}
