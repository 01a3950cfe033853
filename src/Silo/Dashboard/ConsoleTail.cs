using System.Text;

namespace Actors.Silo.Dashboard;

/// <summary>
/// The last lines of one VM's serial console, as a person reads them in a table cell: printable text and line
/// breaks only (carriage returns, other control characters and terminal escape sequences dropped, which a guest's
/// shell sends to draw its prompt), at most <see cref="Lines"/> lines of at most <see cref="Width"/> characters.
/// Batches that repeat bytes already seen (by their sequence in the console's whole output) are skipped.
/// </summary>
internal sealed class ConsoleTail
{
    public const int Lines = 4;
    public const int Width = 160;

    private const int Kept = Lines * (Width + 1);

    private readonly Lock _gate = new();
    private readonly StringBuilder _text = new(Kept * 2);
    private readonly Decoder _utf8 = Encoding.UTF8.GetDecoder();
    private long _next;
    private EscapeState _escape;

    private enum EscapeState
    {
        None,
        Escape,
        ControlSequence,
    }

    /// <summary>Adds a batch of output that begins at <paramref name="sequence"/> in the console's whole output.</summary>
    public void Append(long sequence, ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            if (sequence + data.Length <= _next)
                return;
            if (sequence < _next)
                data = data[(int)(_next - sequence)..];
            _next = Math.Max(_next, sequence) + data.Length;

            Span<char> chars = stackalloc char[256];
            while (!data.IsEmpty)
            {
                int take = Math.Min(data.Length, 128);
                int count = _utf8.GetChars(data[..take], chars, flush: false);
                foreach (char c in chars[..count])
                    Add(c);
                data = data[take..];
            }

            if (_text.Length > Kept * 2)
                _text.Remove(0, _text.Length - Kept);
        }
    }

    /// <summary>The last lines, joined by '\n'; an unfinished last line is included.</summary>
    public override string ToString()
    {
        lock (_gate)
        {
            string text = _text.ToString().TrimEnd('\n');
            string[] lines = text.Split('\n');
            return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - Lines)).Select(l => l.Length > Width ? l[..Width] : l));
        }
    }

    private void Add(char c)
    {
        switch (_escape)
        {
            case EscapeState.Escape:
                _escape = c == '[' ? EscapeState.ControlSequence : EscapeState.None;
                return;
            case EscapeState.ControlSequence:
                // Parameters and intermediates run until a final byte in @..~.
                if (c is >= '@' and <= '~')
                    _escape = EscapeState.None;
                return;
        }

        if (c == '\x1b')
            _escape = EscapeState.Escape;
        else if (c == '\n' || c == '\t' || !char.IsControl(c))
            _text.Append(c == '\t' ? ' ' : c);
    }
}
