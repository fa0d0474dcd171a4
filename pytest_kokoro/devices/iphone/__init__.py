"""``--kokoro-device=iphone``: the harness app on a real iPhone, reached through pymobiledevice3.

- ``errors``: typed errors whose message says the fix, and ``explain`` (pymobiledevice3's exceptions -> them);
- ``services``: what the device asks of a phone (``PhoneServices``) and the real one over pymobiledevice3;
- ``device``: preflight, install, launch, connect, stop and pull (``IPhoneDevice``), and a run's shared state;
- ``package``: the app package on this computer (``--kokoro-app``) and whether the phone needs it installed;
- ``pulled``: the results the app wrote on the phone compared with the stream, and the gate-exclusion note.

pymobiledevice3 is imported only inside the calls that need it, so importing this package stays cheap.
"""
