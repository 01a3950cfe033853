namespace Actors.HwBackend.Tests.Differential;

/// <summary>Draws the cases of one family from a seeded builder.</summary>
internal sealed class CaseGenerator
{
    private readonly Family _family;
    private readonly CaseBuilder _builder;

    public CaseGenerator(Family family, ulong seed)
    {
        _family = family;
        _builder = new CaseBuilder(new Rng(Rng.Seed(family.Name, seed)));
    }

    public DiffCase Next()
    {
        var b = _builder;
        for (int attempt = 0; attempt < 200; attempt++)
        {
            if (_family.CustomRaw is { } raw)
            {
                var (code, length) = raw(b);
                return b.CompleteRaw(code, length);
            }
            if (_family.Custom is { } custom)
            {
                var ins = custom(b);
                if (ins is { } i && b.TryComplete(i, checkMemory: true, out var customCase))
                    return customCase!;
                continue;
            }

            b.Begin(b.Rng.Pick(_family.Codes));
            _family.Configure?.Invoke(b);
            b.ChooseOperands();
            if (_family.Adjust is { } adjust && !adjust(b))
                continue;
            if (b.TryBuild(out var c))
                return c!;
        }
        throw new InvalidOperationException($"family {_family.Name}: no valid case after 200 attempts");
    }
}
