using System.Diagnostics;

namespace Actors.Hvctl;

/// <summary>
/// Puts the terminal on stdin into raw mode (no echo, no line editing, Ctrl-C as a byte) for an
/// interactive console and restores its settings afterwards, as <c>virsh console</c> does. Uses
/// <c>stty</c> on the inherited stdin; when stdin is not a terminal it does nothing.
/// </summary>
internal sealed class RawTerminal : IDisposable
{
    private readonly string? _saved;

    private RawTerminal(string? saved) => _saved = saved;

    public static RawTerminal Enter()
    {
        if (Console.IsInputRedirected)
            return new RawTerminal(null);
        string? saved = Stty("-g");
        if (saved is null || Stty("raw", "-echo") is null)
            return new RawTerminal(null);
        return new RawTerminal(saved.Trim());
    }

    public void Dispose()
    {
        if (_saved is not null)
            Stty(_saved);
    }

    /// <summary>Runs stty on our stdin; its output, or null if it failed (no stty, not a terminal).</summary>
    private static string? Stty(params string[] args)
    {
        try
        {
            var start = new ProcessStartInfo("stty") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string arg in args)
                start.ArgumentList.Add(arg);
            using Process? stty = Process.Start(start);
            if (stty is null)
                return null;
            string output = stty.StandardOutput.ReadToEnd();
            stty.WaitForExit();
            return stty.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
