using Iced.Intel;

namespace Actors.HwBackend.Emulation;

/// <summary>
/// Feeds Iced the guest's instruction bytes page by page through the CPU's code translation. A fault
/// on the next page is not raised here: the reader reports end of input and remembers the fault, so the
/// block simply ends before that instruction, and only an instruction that is first in its block faults.
/// </summary>
internal sealed unsafe class GuestCodeReader : CodeReader
{
    private readonly Cpu _cpu;
    private byte* _page;
    private int _offset;
    private ulong _linear;

    public GuestCodeReader(Cpu cpu) => _cpu = cpu;

    public CpuFault? Fault { get; private set; }

    /// <summary>The RAM page of the second page, when an instruction crossed onto it.</summary>
    public ulong SecondPage { get; private set; } = ulong.MaxValue;

    public int BytesRead { get; private set; }

    public void Reset(byte* host, ulong linear)
    {
        _page = host - (int)(linear & 0xFFF);
        _offset = (int)(linear & 0xFFF);
        _linear = linear;
        Fault = null;
        SecondPage = ulong.MaxValue;
        BytesRead = 0;
    }

    public override int ReadByte()
    {
        if (_offset == 0x1000)
        {
            if (_page == null) return -1;
            ulong next = (_linear + (ulong)BytesRead) & _cpu.LinearMask;
            try
            {
                _page = _cpu.TranslateCode(next, out ulong ramPage) - (int)(next & 0xFFF);
                SecondPage = ramPage;
                _offset = 0;
            }
            catch (CpuFault f)
            {
                Fault = f;
                _page = null;
                return -1;
            }
        }
        BytesRead++;
        return _page[_offset++];
    }
}
