// A React 19 page that creates the widget: attributes from props, its events as React handlers
// (React 19 passes on<event> props of a custom element to addEventListener).
import { useState } from 'react';
import { createRoot } from 'react-dom/client';
import 'prefrec/widget';

function App() {
  const [k, setK] = useState(3);
  const [shown, setShown] = useState([]);
  const [clicked, setClicked] = useState('');
  return (
    <main>
      <prefrec-recommendations id="rw" pack="/models/A01.item.pack" k={String(k)} gender="F"
        onprefrec-shown={(e) => setShown(e.detail.codes)} onprefrec-select={(e) => setClicked(e.detail.code)} />
      <p id="shown">{shown.join(' ')}</p>
      <p id="clicked">{clicked}</p>
      <button id="more" type="button" onClick={() => setK(5)}>more</button>
    </main>
  );
}

createRoot(document.getElementById('root')).render(<App />);
